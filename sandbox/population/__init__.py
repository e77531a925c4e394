"""The fake population: generator (Faker), store (TinyDB) and the audience engine."""
