"""Safety for a person whose phone may be watched: quick exit, discreet mode, consent per
purpose, calls and chats kept apart, abusive numbers. See :mod:`bot.contact_safety.service`.
"""
