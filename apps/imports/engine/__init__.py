"""Pure import machinery: streaming readers, column mapping and per-kind row parsing.

No Django here (house rule 2): the services open the stored file, hand its byte stream to
these functions and persist what they return.
"""
