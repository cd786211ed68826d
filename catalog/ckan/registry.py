"""The action registry: CKAN's action names and, for each, its function and the schema of its input."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from catalog.ckan import actions_read as read
from catalog.ckan import actions_write as write
from catalog.ckan import schemas as s


@dataclass(frozen=True)
class Action:
    fn: Callable[..., Any]
    schema: type[BaseModel]


ACTIONS: dict[str, Action] = {
    "status_show": Action(read.status_show, s.NoInput),
    "package_list": Action(read.package_list, s.PageIn),
    "package_show": Action(read.package_show, s.IdIn),
    "package_search": Action(read.package_search, s.PackageSearchIn),
    "current_package_list_with_resources": Action(read.current_package_list_with_resources, s.PageIn),
    "organization_list": Action(read.organization_list, s.OrganizationListIn),
    "organization_show": Action(read.organization_show, s.OrganizationShowIn),
    "group_list": Action(read.group_list, s.OrganizationListIn),
    "group_show": Action(read.group_show, s.IdIn),
    "tag_list": Action(read.tag_list, s.TagListIn),
    "resource_show": Action(read.resource_show, s.IdIn),
    "license_list": Action(read.license_list, s.NoInput),
    "help_show": Action(read.help_show, s.HelpIn),
    "package_create": Action(write.package_create, s.PackageIn),
    "package_update": Action(write.package_update, s.PackageIn),
    "package_patch": Action(write.package_patch, s.PackageIn),
    "package_delete": Action(write.package_delete, s.IdIn),
    "resource_create": Action(write.resource_create, s.ResourceCreateIn),
    "organization_create": Action(write.organization_create, s.OrganizationIn),
}
