"""The builder's URLs, mounted under the procedure admin (``/admin/procedures/procedure/``).

``ProcedureAdmin.get_urls`` passes the console's ``admin_view`` wrapper (login, staff,
CSRF, never cached); names are ``admin:procedures_procedure_<name>``.
"""

from collections.abc import Callable

from django.urls import URLPattern, path

from procedures.builder import translation_views, views


def builder_urls(admin_view: Callable) -> list[URLPattern]:
    def route(pattern: str, view: Callable, name: str) -> URLPattern:
        return path(pattern, admin_view(view), name=f"procedures_procedure_{name}")

    return [
        route("new/", views.builder_new, "builder_new"),
        route("<int:pk>/builder/", views.builder_page, "builder"),
        route("<int:pk>/builder/save/", views.builder_save, "builder_save"),
        route("<int:pk>/builder/preview/", views.builder_preview, "builder_preview"),
        route("<int:pk>/builder/convert/", views.builder_convert, "builder_convert"),
        route("<int:pk>/builder/try/", views.builder_try, "builder_try"),
        route("<int:pk>/builder/try-line/", views.builder_try_line, "builder_try_line"),
        route("<int:pk>/builder/try-end/", views.builder_try_end, "builder_try_end"),
        route("<int:pk>/translations/", translation_views.translations_page, "translations"),
        route("<int:pk>/publish/", views.publish_page, "publish"),
        route("<int:pk>/versions/", views.versions_page, "versions"),
        route("<int:pk>/versions/<int:number>/", views.version_page, "version"),
        route("<int:pk>/versions/<int:number>/rollback/", views.rollback_view, "version_rollback"),
    ]
