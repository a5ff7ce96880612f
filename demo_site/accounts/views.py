from __future__ import annotations

import secrets

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse

from demo_site.accounts.models import Profile
from demo_site.views import render_scenario


def sign_up(request: HttpRequest) -> HttpResponse:
    user = User.objects.create(username=f"reader-{secrets.token_hex(3)}")
    profile = Profile.objects.get(user=user)
    first_saved = profile.updated_at

    user.first_name = "Ada"
    user.save()
    profile.refresh_from_db()

    return render_scenario(
        request,
        "profile",
        [
            f"Created user {user.username}: create_profile created profile #{profile.pk}.",
            f"Set the user's first name and saved: save_profile saved the profile again, "
            f"though nothing about it changed (updated_at went from {first_saved:%H:%M:%S.%f} "
            f"to {profile.updated_at:%H:%M:%S.%f}).",
        ],
    )
