# The Newswire worker image used by docker-compose.yml.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY pipeline ./pipeline
COPY agents ./agents
COPY schemas ./schemas
RUN pip install --no-cache-dir .
EXPOSE 6066
CMD ["newswire", "worker"]
