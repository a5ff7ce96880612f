from __future__ import annotations

from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=100)

    def __str__(self) -> str:  # Must never be called by the recorder.
        raise AssertionError("the recorder called Author.__str__")


class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, null=True)
    tags = models.ManyToManyField("Tag", blank=True)

    def __str__(self) -> str:
        return self.title


class Tag(models.Model):
    name = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.name


class Review(models.Model):
    """Deleting its book sets ``book`` to NULL: Django's delete() runs QuerySet.update() for it."""

    book = models.ForeignKey(Book, on_delete=models.SET_NULL, null=True)
    text = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.text


class Stamped(models.Model):
    """An abstract base: Django never sends for it, so receivers connected for it never run."""

    stamp = models.CharField(max_length=20, blank=True)

    class Meta:
        abstract = True


class Note(Stamped):
    text = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.text


class FeaturedBook(Book):
    """A proxy: saving one sends pre_save/post_save with sender=FeaturedBook, not Book."""

    class Meta:
        proxy = True


class Place(models.Model):
    name = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.name


class Restaurant(Place):
    """A multi-table child: saving one sends for Restaurant only, not for Place."""

    serves_pizza = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.name} (restaurant)"
