"""digest: a week of AI news in, a cited newsletter issue out."""
