"""What is made of results for people: the review page, exports, summaries, the gazetteer."""
