"""Text normalisation and word hashing shared by dedup and decontamination."""
