"""The domain: flows and their engine, place matching, resource search, safety rules.

Nothing here imports Flask, Twilio, Redis or SQLAlchemy; a test holds that line.
"""
