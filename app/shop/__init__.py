"""Public site: home, categories, service pages, sitemap and robots."""
