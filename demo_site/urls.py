from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from demo_site import views
from demo_site.accounts import views as accounts
from demo_site.family import views as family
from demo_site.pitfalls import views as pitfalls
from demo_site.shop import views as shop

urlpatterns = [
    path("", views.index, name="index"),
    path("profile/", accounts.sign_up, name="profile"),
    path("family/", family.family_tree, name="family"),
    path("audit/", shop.audit, name="audit"),
    path("custom-signals/", shop.checkout, name="custom"),
    path("async/", shop.ship, name="async"),
    path("blinker/", shop.blinker_signal, name="blinker"),
    path("transactions/", shop.transactions, name="transactions"),
    path("duplicates/", pitfalls.duplicates, name="duplicates"),
    path("recursion/", pitfalls.recursion, name="recursion"),
    path("swallowed-error/", pitfalls.swallowed, name="swallowed"),
    path("slow-receiver/", pitfalls.slow, name="slow"),
    path("bulk/", shop.bulk, name="bulk"),
    path("n-plus-one/", shop.n_plus_one, name="n_plus_one"),
    path("vanishing-receiver/", pitfalls.vanishing, name="vanishing"),
    path("proxy-receiver/", pitfalls.proxy, name="proxy"),
    path("rolled-back/", shop.rolled_back, name="rolled_back"),
    path("ignored-return/", shop.ignored_return, name="ignored_return"),
    path("admin/", admin.site.urls),
    # Not debug_toolbar_urls(), which returns nothing when DEBUG is False as this module is
    # imported: the tests turn DEBUG on per test. The toolbar's views answer only when the toolbar
    # shows (DEBUG=True and a request from INTERNAL_IPS).
    path("__debug__/", include("debug_toolbar.urls")),
]
