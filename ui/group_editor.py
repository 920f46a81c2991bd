"""Administrators add, rename and change discharge groups in the browser (pipelines.groups keeps every
version and audits it). Trusts picked by hand can be saved as a new group, whose narratives can then be
saved."""
from __future__ import annotations

import streamlit as st

from pipelines import access, config, groups
from ui import auth, data
from ui.weekly_filters import Selection

NEW = "new"


def group_editor(selection: Selection) -> None:
    """The administrators' section: choose a group (or a new one), its name and trusts, and save."""
    picked_by_hand = selection.group is None
    # Drawn only when opened (a rerun), as it is for trusts picked by hand: its pickers are not what the page is for.
    editor = st.expander("Discharge groups (administrators): add a group, rename one or change its trusts",
                         expanded=picked_by_hand, key="group_editor", on_change="rerun")
    if not editor.open:
        return
    by_id = {g.group_id: g for g in data.read(groups.current_groups) if not g.is_all}
    with editor:
        options = [NEW, *by_id]
        start = selection.group_id if selection.group_id in by_id else NEW
        choice = st.selectbox("Group to change", options, index=options.index(start), key="group_to_edit",
                              format_func=lambda i: "A new group" if i == NEW else f"{by_id[i].name} ({i})")
        editing = by_id.get(choice or NEW)
        trusts = data.read(groups.known_trusts)
        members = editing.org_codes if editing else tuple(selection.table.trusts["org_code"]) if picked_by_hand else ()
        with st.form(f"group_form-{choice}", border=False):
            name_col, trusts_col, save_col = st.columns([2, 4, 1], vertical_alignment="bottom")
            name = name_col.text_input("Group name", value=editing.name if editing else "",
                                       max_chars=groups.MAX_NAME_LENGTH)
            chosen = trusts_col.multiselect("Its trusts", list(trusts), default=[c for c in members if c in trusts],
                                            format_func=lambda c: f"{trusts[c]} ({c})")
            pressed = save_col.form_submit_button("Save group", icon=":material/group_add:")
        st.caption("Every change is kept and recorded in the audit log. A group's narratives stay with it when its "
                   "name or trusts change.")
    if pressed:
        group_id = editing.group_id if editing else groups.new_group_id(name, [*by_id, groups.ALL_GROUP])
        actor = auth.acting(st.session_state.get("narrative_author") or "")
        try:
            saved = groups.save_group(config.db_path(), group_id, name, chosen, actor)
        except (ValueError, access.AccessDenied) as problem:
            st.error(str(problem))
        else:
            st.session_state["narrative_saved"] = f"Saved the discharge group {saved.name}."
            st.query_params["group"] = saved.group_id
            st.rerun()
