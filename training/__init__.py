"""Fine-tuning: cached frozen-encoder embeddings, a skip-connection head, a ranking loss."""
