"""Django's own admin wording that the Japanese catalog rewords for clerks.

Django's Japanese for its admin reads as machine translation (「変更する 手続き を選択」,
「選択された 担当課 の削除」). The project's catalog (LOCALE_PATHS, which wins over
Django's) gives these msgids natural wording; listing them here keeps ``makemessages``
from marking them obsolete. Nothing imports this module.
"""

from django.utils.translation import gettext_noop, ngettext_lazy

DJANGO_ADMIN_WORDING = [
    gettext_noop("Models in the %(name)s application"),
    gettext_noop("Select %s to change"),
    gettext_noop("Select %s to view"),
    gettext_noop("Add %s"),
    gettext_noop("Change %s"),
    gettext_noop("View %s"),
    gettext_noop("Select %s"),
    gettext_noop("Add %(name)s"),
    gettext_noop("Delete selected %(verbose_name_plural)s"),
    gettext_noop("0 of %(cnt)s selected"),
    gettext_noop(" By %(filter_title)s "),
    gettext_noop("Change selected %(model)s"),
    gettext_noop("View selected %(model)s"),
    gettext_noop("Delete selected %(model)s"),
    gettext_noop("Add another %(model)s"),
    gettext_noop("Add another %(verbose_name)s"),
    gettext_noop("Select all objects on this page for an action"),
    gettext_noop("Select all %(total_count)s %(module_name)s"),
    gettext_noop("Hold down “Control”, or “Command” on a Mac, to select more than one."),
    gettext_noop("Successfully deleted %(count)d %(items)s."),
    gettext_noop("The {name} “{obj}” was added successfully."),
    gettext_noop("The {name} “{obj}” was changed successfully."),
    gettext_noop("The {name} “{obj}” was added successfully. You may edit it again below."),
    gettext_noop("The {name} “{obj}” was added successfully. You may add another {name} below."),
    gettext_noop("The {name} “{obj}” was changed successfully. You may edit it again below."),
    gettext_noop("The {name} “{obj}” was changed successfully. You may add another {name} below."),
    gettext_noop("The %(name)s “%(obj)s” was deleted successfully."),
    ngettext_lazy(
        "%(count)s %(name)s was changed successfully.",
        "%(count)s %(name)s were changed successfully.",
        "count",
    ),
    gettext_noop(
        "Items must be selected in order to perform actions on them. No items have been changed."
    ),
    gettext_noop("No action selected."),
    ngettext_lazy("%(counter)s result", "%(counter)s results", "count"),
    gettext_noop("%(full_result_count)s total"),
]
