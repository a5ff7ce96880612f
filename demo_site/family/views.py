from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from demo_site.family.models import FamilyMember
from demo_site.views import render_scenario


def family_tree(request: HttpRequest) -> HttpResponse:
    generation = FamilyMember.objects.count() // 3 + 1
    ada = FamilyMember.objects.create(name=f"Ada {generation}")
    william = FamilyMember.objects.create(name=f"William {generation}")

    ada.spouse = william
    ada.save()
    william.refresh_from_db()

    child = FamilyMember.objects.create(name=f"Byron {generation}")
    child.parents.add(ada)
    parents = ", ".join(sorted(p.name for p in child.parents.all()))

    return render_scenario(
        request,
        "family",
        [
            f"Set {ada}'s spouse to {william}: keep_spouses_in_sync set {william}'s spouse to "
            f"{william.spouse}.",
            f"Added {ada} as {child}'s parent: add_spouse_as_parent added the spouse, so "
            f"{child}'s parents are {parents}.",
        ],
    )
