"""API URLs of the template catalog, mounted under /api/v1/."""

from django.urls import path

from procedures.catalog import api

urlpatterns = [
    path(
        "catalog/templates/",
        api.CatalogTemplateListView.as_view(),
        name="api-catalog-template-list",
    ),
    path(
        "catalog/templates/<int:pk>/",
        api.CatalogTemplateDetailView.as_view(),
        name="api-catalog-template-detail",
    ),
    path(
        "catalog/templates/<int:pk>/import/",
        api.CatalogTemplateImportView.as_view(),
        name="api-catalog-template-import",
    ),
]
