FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY vault ./vault
RUN pip install --no-cache-dir .
EXPOSE 8750
CMD ["evidence-vault", "serve", "--host", "0.0.0.0"]
