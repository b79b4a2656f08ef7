"""Notifications: the daily digest and the mail it goes out by."""
