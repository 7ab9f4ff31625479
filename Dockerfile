# Image for web (gunicorn), worker and beat (Celery); see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production

WORKDIR /app

# The apps run from /app; `pip install .` installs the dependencies of pyproject.toml (the project
# declares no importable packages of its own). Dependencies first, so a code change reuses this layer.
COPY pyproject.toml README.md ./
RUN pip install .

COPY . .

# collectstatic needs the production settings to load; these throwaway values are not kept in the image.
RUN DJANGO_SECRET_KEY=collectstatic-only DJANGO_ALLOWED_HOSTS=localhost \
    DATABASE_URL=sqlite:////tmp/collectstatic.sqlite3 REDIS_URL=redis://localhost:6379/0 \
    MEMBERS_FIELD_KEYS=Y29sbGVjdHN0YXRpYy1vbmx5LW5vdC1hLXJlYWwta3k= MEMBERS_HASH_KEY=collectstatic-only \
    python manage.py collectstatic --noinput \
    && useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin branchwork \
    && mkdir -p var/media \
    && chown -R branchwork:branchwork var/media

USER branchwork
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
