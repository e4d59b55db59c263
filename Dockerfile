# One image for the web server and the worker.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 VAR_DIR=/var/lib/segplatform
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
RUN useradd --system --home /app segplatform \
 && mkdir -p "$VAR_DIR" && chown segplatform "$VAR_DIR" \
 && DATABASE_URL=sqlite:////tmp/build.sqlite3 SECRET_KEY=build DATA_ENCRYPTION_KEY=ZmFrZWtleWZha2VrZXlmYWtla2V5ZmFrZWtleWZha2U= \
    python manage.py collectstatic --noinput -v0 && rm -f /tmp/build.sqlite3
USER segplatform
EXPOSE 8000
CMD ["gunicorn", "segplatform.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120"]
