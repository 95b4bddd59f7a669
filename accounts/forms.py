"""Forms of the accounts pages: they parse input; the actions enforce the rules."""

from __future__ import annotations

from django import forms

from accounts.key_admin import GRACE_PERIODS
from accounts.memberships import ORG_ROLES, PROJECT_ROLES
from accounts.models import Project, Role


class NameForm(forms.Form):
    name = forms.CharField(max_length=200, strip=True)


class ProjectCreateForm(forms.Form):
    name = forms.CharField(max_length=200, strip=True, help_text="For example production, staging or dev")


class DeleteProjectForm(forms.Form):
    confirm = forms.CharField(label="Type the project name to confirm", strip=True)

    def __init__(self, *args, project: Project, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.project = project

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"]
        if value != self.project.name:
            raise forms.ValidationError(f"Type “{self.project.name}” exactly to delete this project")
        return value


class ApiKeyCreateForm(forms.Form):
    note = forms.CharField(
        max_length=200, required=False, strip=True, help_text="Which application or team uses this key"
    )


class RotateForm(forms.Form):
    grace = forms.ChoiceField(
        choices=[(k, label) for k, (label, _) in GRACE_PERIODS.items()], initial="24h", label="Old key"
    )


def _role_choices(roles: list[Role]) -> list[tuple[str, str]]:
    return [(r.value, r.label) for r in roles]


class InviteForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=_role_choices(ORG_ROLES), initial=Role.MEMBER, label="Organisation role")
    project = forms.ChoiceField(required=False, label="Project (optional)")
    project_role = forms.ChoiceField(
        required=False,
        choices=[("", "Same as organisation role"), *_role_choices(PROJECT_ROLES)],
        label="Role in that project",
    )

    def __init__(self, *args, projects: list[Project], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.projects = {p.pk: p for p in projects}
        self.fields["project"].choices = [("", "—"), *((p.pk, p.name) for p in projects)]

    def chosen_project(self) -> Project | None:
        return self.projects.get(self.cleaned_data.get("project") or "")


class OrgRoleForm(forms.Form):
    role = forms.ChoiceField(choices=_role_choices(ORG_ROLES))


class ProjectRoleForm(forms.Form):
    role = forms.ChoiceField(
        required=False, choices=[("", "Organisation role"), *_role_choices(PROJECT_ROLES)]
    )


class TransferOwnershipForm(forms.Form):
    membership = forms.IntegerField(label="New owner")


class AuditFilterForm(forms.Form):
    action = forms.CharField(required=False)
    actor = forms.CharField(required=False, label="Actor (email or key id)")
    resource_type = forms.CharField(required=False, label="Resource")
    resource_id = forms.CharField(required=False, label="Resource id")
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
