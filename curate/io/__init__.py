"""Reading crawl inputs and writing run outputs."""
