# The support desk bot: slim Python, the package installed, running as a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 bot \
    && useradd --system --uid 10001 --gid bot --home-dir /app --shell /usr/sbin/nologin bot

COPY pyproject.toml README.md /src/
COPY bot /src/bot
COPY storage /src/storage
COPY knowledge_base /src/knowledge_base
COPY sandbox /src/sandbox
RUN pip install /src && rm -rf /src \
    && mkdir -p /app/data && chown -R bot:bot /app

WORKDIR /app
# The SQLite database (the default DATABASE_URL, data/bot.db) and its backups live here.
VOLUME ["/app/data"]
ENV METRICS_PORT=9090

USER bot
EXPOSE 8080 9090
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-m", "bot.ops.healthcheck"]

CMD ["python", "-m", "bot"]
