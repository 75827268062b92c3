from typing import Any

from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    """Page-numbered lists: `?page=N&page_size=M` (max 500)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    page_query_description = "Page number, from 1. A page past the last is a 404."
    page_size_query_description = "Rows per page (default 50, at most 500)."

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        wrapped = super().get_paginated_response_schema(schema)
        descriptions = {
            "count": "Rows matching the filters, on all pages.",
            "next": "URL of the next page; null on the last page.",
            "previous": "URL of the previous page; null on the first page.",
            "results": "The rows of this page.",
        }
        for name, description in descriptions.items():
            wrapped["properties"][name]["description"] = description
        return wrapped
