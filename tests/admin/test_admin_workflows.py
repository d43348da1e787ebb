"""Admin console workflows of spec §5, through the admin with a client that passed its MFA."""

from __future__ import annotations

import pytest

from accounts.models import AuditEvent
from enrollment.webauthn import known_authenticators
from mfa_policies import constants as c
from mfa_policies.models import AaguidItem, AaguidList, Environment, Organization
from tests.support.admin import org_form

LISTS = "/admin/mfa_policies/aaguidlist/"


def aaguid_list_form(org, *, known=(), custom=(), name="Approved keys"):
    data = {
        "organization": str(org.pk), "name": name, "description": "AAGUIDs for MFA enrollment",
        "items-TOTAL_FORMS": str(len(custom)), "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0", "items-MAX_NUM_FORMS": "1000", "known_authenticators": list(known),
    }
    for i, (value, description) in enumerate(custom):
        data[f"items-{i}-value"] = value
        data[f"items-{i}-description"] = description
    return data


def test_the_known_authenticators_come_from_the_fido_metadata_with_aaguids():
    known = dict(known_authenticators())
    assert len(known) > 50
    assert all(len(aaguid) == 32 and aaguid == aaguid.lower() for aaguid in known)
    assert any("YubiKey" in description for description in known.values())


def test_the_add_page_offers_known_authenticators_and_custom_entries(demo_admin_client, demo):
    aaguid, description = next(pair for pair in known_authenticators() if "YubiKey" in pair[1])
    body = demo_admin_client.get(f"{LISTS}add/").content.decode()
    assert "Known authenticators" in body and "MFA AAGUIDs" in body and "Custom entries" in body
    assert f'<option value="{aaguid}">{aaguid} — {description}</option>' in body


def test_picking_known_authenticators_creates_items_with_their_aaguid_and_description(demo_admin_client, demo):
    (a1, d1), (a2, d2) = known_authenticators()[:2]
    response = demo_admin_client.post(f"{LISTS}add/", aaguid_list_form(
        demo, known=[a1, a2], custom=[("8C39EE86-7F9A-4A95-9BA3-F6B097E5C2EE", "Company key")]))
    assert response.status_code == 302, response.content.decode()[:3000]
    aaguid_list = AaguidList.objects.get(name="Approved keys")
    assert dict(aaguid_list.items.values_list("value", "description")) == {
        a1: d1, a2: d2, "8c39ee867f9a4a959ba3f6b097e5c2ee": "Company key"}
    event = AuditEvent.objects.get(action="aaguidlist.create")
    assert event.actor.email == "admin@demo.test"
    assert event.after["items"]["8c39ee867f9a4a959ba3f6b097e5c2ee"] == "Company key"


def test_the_picker_no_longer_offers_what_the_list_holds(demo_admin_client, demo):
    (a1, _), (a2, _) = known_authenticators()[:2]
    demo_admin_client.post(f"{LISTS}add/", aaguid_list_form(demo, known=[a1]))
    aaguid_list = AaguidList.objects.get(name="Approved keys")
    body = demo_admin_client.get(f"{LISTS}{aaguid_list.pk}/change/").content.decode()
    assert f'<option value="{a1}">' not in body and f'<option value="{a2}">' in body


def test_a_bad_custom_aaguid_is_shown_next_to_its_field_and_nothing_is_written(demo_admin_client, demo):
    (a1, _), = known_authenticators()[:1]
    response = demo_admin_client.post(f"{LISTS}add/",
                                      aaguid_list_form(demo, known=[a1], custom=[("not-an-aaguid", "")]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "“not-an-aaguid” is not an AAGUID: use 32 hexadecimal characters without dashes" in body
    assert 'class="field-value"' in body and "errorlist" in body
    assert "“” is not an AAGUID" not in body  # one message, not a second one about the emptied value
    assert not AaguidList.objects.exists() and not AaguidItem.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="aaguidlist.").exists()


def test_a_custom_entry_repeating_a_picked_authenticator_is_refused(demo_admin_client, demo):
    (a1, _), = known_authenticators()[:1]
    dashed = f"{a1[:8]}-{a1[8:12]}-{a1[12:16]}-{a1[16:20]}-{a1[20:]}".upper()
    response = demo_admin_client.post(f"{LISTS}add/", aaguid_list_form(demo, known=[a1], custom=[(dashed, "Again")]))
    assert response.status_code == 200
    assert f"“{a1}” is already in this list; each AAGUID may be listed once." in response.content.decode()
    assert not AaguidList.objects.exists()


def test_two_custom_entries_with_one_aaguid_are_refused(demo_admin_client, demo):
    value = "8c39ee867f9a4a959ba3f6b097e5c2ee"
    response = demo_admin_client.post(f"{LISTS}add/",
                                      aaguid_list_form(demo, custom=[(value, "a"), (value.upper(), "b")]))
    assert response.status_code == 200
    assert f"“{value}” is already in this list" in response.content.decode()
    assert not AaguidList.objects.exists()


def test_editing_the_required_list_is_audited_and_revokes_nothing(demo_admin_client, demo):
    from mfa_policies.models import Application
    from mfa_policies.services import aaguid_list_save

    aaguid_list = aaguid_list_save(acting_user=None, aaguid_list=AaguidList(organization=demo, name="Required"),
                                   items=[("8c39ee867f9a4a959ba3f6b097e5c2ee", "Company key")])
    Organization.objects.filter(pk=demo.pk).update(required_aaguids=aaguid_list)
    versions = dict(Application.objects.values_list("name", "config_version"))
    item = aaguid_list.items.get()
    response = demo_admin_client.post(f"{LISTS}{aaguid_list.pk}/change/", {
        "organization": str(demo.pk), "name": "Required", "description": "",
        "items-TOTAL_FORMS": "1", "items-INITIAL_FORMS": "1", "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000", "items-0-id": str(item.pk), "items-0-aaguid_list": str(aaguid_list.pk),
        "items-0-value": item.value, "items-0-description": "Company key v2",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    assert aaguid_list.items.get().description == "Company key v2"
    event = AuditEvent.objects.get(action="aaguidlist.update")
    assert event.before["items"] == {item.value: "Company key"} and event.after["items"] == {item.value: "Company key v2"}
    assert dict(Application.objects.values_list("name", "config_version")) == versions


def test_switching_enforcement_off_while_members_verify_with_mfa_asks_first(demo_admin_client, demo):
    url = f"/admin/mfa_policies/organization/{demo.pk}/change/"
    data = org_form(demo, mfa_required_for_all_apps="", _save="Save")
    response = demo_admin_client.post(url, data)
    body = response.content.decode()
    assert response.status_code == 200
    assert f"1 member of {demo.name} verifies with MFA; switching enforcement off may cause breaking changes" in body
    assert "switching it off may cause breaking changes" in body
    assert 'name="_confirm_enforcement_off"' in body
    assert Organization.objects.get(pk=demo.pk).mfa_required_for_all_apps is True
    assert not AuditEvent.objects.filter(action="organization.update").exists()

    response = demo_admin_client.post(url, {**data, "_confirm_enforcement_off": "1"})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Organization.objects.get(pk=demo.pk).mfa_required_for_all_apps is False
    event = AuditEvent.objects.get(action="organization.update")
    assert event.before["mfa_required_for_all_apps"] is True and event.after["mfa_required_for_all_apps"] is False


def test_the_warning_names_how_many_members_verify_with_mfa(demo_admin_client, demo):
    from accounts.models import User
    from tests.support.authenticators import enroll_totp

    enroll_totp(User.objects.get(email="p1@demo.test"))
    response = demo_admin_client.post(f"/admin/mfa_policies/organization/{demo.pk}/change/",
                                      org_form(demo, mfa_required_for_all_apps=""))
    assert f"2 members of {demo.name} verify with MFA" in response.content.decode()


def test_switching_enforcement_off_without_mfa_members_saves_directly(demo_admin_client, make_org):
    org = make_org(mfa_required_for_all_apps=True, allowed_authenticators=[c.TOTP])
    response = demo_admin_client.post(f"/admin/mfa_policies/organization/{org.pk}/change/",
                                      org_form(org, mfa_required_for_all_apps=""))
    assert response.status_code == 302
    assert Organization.objects.get(pk=org.pk).mfa_required_for_all_apps is False


def test_switching_enforcement_off_is_still_refused_while_the_environment_says_yes(demo_admin_client, demo):
    Environment.objects.filter(pk=Environment.SINGLETON_PK).update(mfa_requirement=c.ENV_YES)
    response = demo_admin_client.post(f"/admin/mfa_policies/organization/{demo.pk}/change/",
                                      org_form(demo, mfa_required_for_all_apps="", _confirm_enforcement_off="1"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Enforcement cannot be switched off while the environment requires MFA" in body
    assert Organization.objects.get(pk=demo.pk).mfa_required_for_all_apps is True


def test_the_admin_index_links_straight_to_the_environment_page(demo_admin_client, demo):
    body = demo_admin_client.get("/admin/").content.decode()
    assert 'href="/admin/mfa_policies/environment/1/change/"' in body
    assert "Environment: multi-factor auth" in body
    response = demo_admin_client.get("/admin/mfa_policies/environment/")
    assert response.status_code == 302 and response["Location"] == "/admin/mfa_policies/environment/1/change/"


def test_the_environment_page_explains_each_option_and_saves_audited(demo_admin_client, demo):
    url = "/admin/mfa_policies/environment/1/change/"
    body = demo_admin_client.get(url).content.decode()
    assert "Enforce MFA for all users in all organizations. This overrides any organization-level settings." in body
    assert "Allow MFA but do not require it globally." in body
    assert "You will then need to set MFA in each organization separately." in body
    response = demo_admin_client.post(url, {"mfa_requirement": c.ENV_OPTIONAL, "allowed_authenticators": [c.TOTP]})
    assert response.status_code == 302 and response["Location"] == url
    env = Environment.load()
    assert env.mfa_requirement == c.ENV_OPTIONAL and env.allowed_authenticators == [c.TOTP]
    # the latest: seed_demo's own save (actor: system) comes before it
    assert AuditEvent.objects.filter(action="environment.update").latest("id").actor.email == "admin@demo.test"


def test_the_environment_page_loads_when_the_row_is_missing(demo_admin_client, demo):
    Environment.objects.all().delete()
    assert demo_admin_client.get("/admin/mfa_policies/environment/1/change/").status_code == 200
    assert Environment.objects.count() == 1


@pytest.mark.parametrize("url", [
    "/admin/mfa_policies/environment/1/change/", "/admin/mfa_policies/aaguidlist/add/",
    "/admin/mfa_policies/environment/",
])
def test_non_staff_are_refused_the_workflow_pages(demo_admin_client, demo, url):
    from accounts.models import User

    User.objects.filter(email="admin@demo.test").update(is_staff=False, is_superuser=False)
    response = demo_admin_client.get(url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_non_staff_cannot_confirm_switching_enforcement_off(demo_admin_client, demo):
    from accounts.models import User

    User.objects.filter(email="admin@demo.test").update(is_staff=False, is_superuser=False)
    response = demo_admin_client.post(f"/admin/mfa_policies/organization/{demo.pk}/change/",
                                      org_form(demo, mfa_required_for_all_apps="", _confirm_enforcement_off="1"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert Organization.objects.get(pk=demo.pk).mfa_required_for_all_apps is True


def test_deleting_a_list_through_the_admin_is_audited(demo_admin_client, demo):
    from accounts.models import AuditEvent
    from mfa_policies.models import AaguidList

    keys = AaguidList.objects.create(organization=demo, name="Old keys")
    response = demo_admin_client.post(f"/admin/mfa_policies/aaguidlist/{keys.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not AaguidList.objects.filter(pk=keys.pk).exists()
    assert AuditEvent.objects.filter(action="aaguidlist.delete", object_id=str(keys.pk)).exists()


def test_an_organization_requiring_its_own_aaguid_list_can_be_deleted_in_the_admin(demo_admin_client, make_org):
    org = make_org(name="Leaving", allowed_authenticators=[c.SECURITY_KEY])
    keys = AaguidList.objects.create(organization=org, name="Leaving keys")
    Organization.objects.filter(pk=org.pk).update(required_aaguids=keys)
    page = demo_admin_client.get(f"/admin/mfa_policies/organization/{org.pk}/delete/")
    assert page.status_code == 200 and b"Yes, I\xe2\x80\x99m sure" in page.content, page.content.decode()[:3000]
    response = demo_admin_client.post(f"/admin/mfa_policies/organization/{org.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Organization.objects.filter(pk=org.pk).exists() and not AaguidList.objects.filter(pk=keys.pk).exists()
    assert AuditEvent.objects.filter(action="organization.delete", object_id=str(org.pk)).exists()
