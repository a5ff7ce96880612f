from __future__ import annotations

from django.db import models


class Subscriber(models.Model):
    email = models.EmailField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.email


class Notification(models.Model):
    """An outbox row per message a receiver queued."""

    recipient = models.CharField(max_length=120)
    subject = models.CharField(max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.subject} -> {self.recipient}"


class Article(models.Model):
    title = models.CharField(max_length=120)
    body = models.TextField()
    word_count = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.title


class Photo(models.Model):
    title = models.CharField(max_length=120)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.title


class CoverPhoto(Photo):
    """The blog's cover photos: the same rows as ``Photo``, with a receiver of their own."""

    class Meta:
        proxy = True


class Page(models.Model):
    title = models.CharField(max_length=120)
    body = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.title
