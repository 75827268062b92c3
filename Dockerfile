# SmartMkt image: one image for web, workers and beat (command chosen in compose.yaml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=smartmkt.settings.production \
    SMARTMKT_VAR_DIR=/var/lib/smartmkt

RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential libpq5 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements/ requirements/
# CPU torch by default; GPU images pass --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu128
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
RUN pip install --no-cache-dir --extra-index-url ${TORCH_INDEX} -r requirements/base.txt -r requirements/ml.txt

COPY . .
RUN useradd --create-home smartmkt && mkdir -p /var/lib/smartmkt && chown -R smartmkt /var/lib/smartmkt /app \
    && python manage.py collectstatic --noinput -v0
USER smartmkt

EXPOSE 8000
CMD ["sh", "-c", "python manage.py migrate --noinput && gunicorn smartmkt.wsgi --bind 0.0.0.0:${PORT:-8000} --worker-class gthread --workers ${WEB_CONCURRENCY:-$(nproc)} --threads ${WEB_THREADS:-8} --keep-alive 30"]
