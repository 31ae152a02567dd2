"""What an operator watches: health and readiness, metrics, the workers' heartbeats, logs."""
