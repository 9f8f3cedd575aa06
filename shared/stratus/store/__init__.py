"""The store: profiles, listings and their versions, review, search, creators, reviews."""
