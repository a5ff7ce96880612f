"""Profile on sign-up: the classic pair of post_save receivers on ``auth.User``."""
