"""Delivery to subscribers beyond Kafka: story formats out (ninjs, NewsML-G2), HTTP push
(signatures, URL safety, retry schedule) and the pull API's cursor; pure, without a network."""
