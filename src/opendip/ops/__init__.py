"""Operations: health, metrics, logging."""
