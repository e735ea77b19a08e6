// The organization behind the platform (GET /team): its members and their roles, pending
// invitations, and leaving. Owners invite by email, change roles and remove members; everyone
// may leave, except the last owner. The API checks every change (a refusal is a 403).

import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useId, useState } from "react";
import type { InvitationView, MemberView, Role, TeamView } from "../api/types";
import { useAuth } from "../auth";
import { Dialog } from "../components/Dialog";
import { SelectField, TextField } from "../components/fields";
import { Shell } from "../components/Shell";
import { Badge, Card, EmptyState, ErrorNotice, Loading, Notice, PageHeading, Wrappable } from "../components/ui";
import { date, dateTime, plural } from "../lib/format";
import { type InviteErrors, type InviteForm, lastOwnerReason, MAX_INVITATION_DAYS, ROLE_SUMMARY, ROLES, roleLabel, validateInvite } from "../lib/team";
import { useCapabilities } from "../platformContext";
import { navigate } from "../router";
import { adoptRole, useAction, useApi, useResource } from "../services";

export function Team() {
  const api = useApi();
  const client = useQueryClient();
  const team = useResource<TeamView>("team", () => api.team());
  const caps = useCapabilities();
  // GET /team says the caller's role too: the rest of the dashboard follows it.
  const role = team.data?.role;
  useEffect(() => adoptRole(client, role), [client, role]);

  return (
    <Shell>
      <PageHeading title="Team" lead="The people who share this platform's projects, and what each of them may do.">
        Team
      </PageHeading>
      {team.status === "loading" ? <Loading label="Loading your team…" /> : null}
      {team.status === "error" && !team.data ? <ErrorNotice error={team.error} title="Your team could not be loaded" onRetry={team.reload} /> : null}
      {team.data ? (
        <div className="stack">
          <Members team={team.data} manage={caps.manageMembers} onChanged={team.reload} />
          {caps.manageMembers ? <Invite onInvited={team.reload} /> : null}
          <Invitations invitations={team.data.invitations} manage={caps.manageMembers} onChanged={team.reload} />
          <Leave team={team.data} />
          <RolesCard />
        </div>
      ) : null}
    </Shell>
  );
}

function memberName(member: MemberView): string {
  return member.email ?? member.userId;
}

function Members({ team, manage, onChanged }: { team: TeamView; manage: boolean; onChanged: () => void }) {
  const api = useApi();
  const [removing, setRemoving] = useState<MemberView | null>(null);
  const setRole = useAction(async (userId: string, role: Role) => {
    await api.setMemberRole(userId, role);
    onChanged();
  });
  const remove = useAction(async (member: MemberView) => {
    await api.removeMember(member.userId);
    setRemoving(null);
    onChanged();
  });
  return (
    <Card title="Members" id="members-title" actions={<span className="muted small">{plural(team.members.length, "member")}</span>}>
      {setRole.error ? <ErrorNotice error={setRole.error} title="The role was not changed" compact /> : null}
      <div className="table-wrap">
        <table className="table table-stack" data-testid="members">
          <thead>
            <tr>
              <th scope="col">Member</th>
              <th scope="col">Role</th>
              <th scope="col">Joined</th>
              {manage ? (
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              ) : null}
            </tr>
          </thead>
          <tbody>
            {team.members.map((member) => {
              const you = member.userId === team.userId;
              // The last owner stays one (the API answers 409): their role is not offered.
              const lastOwner = lastOwnerReason(team.members, member.userId);
              return (
                <tr key={member.userId} data-testid={`member-${member.email ?? member.userId}`}>
                  <th scope="row">
                    <span className="member-name">
                      <Wrappable className="cell-main" text={memberName(member)} />
                      {you ? <Badge tone="info">you</Badge> : null}
                    </span>
                    {member.email ? null : <span className="muted small block">Has not signed in since joining</span>}
                  </th>
                  <td data-label="Role">
                    {manage ? (
                      <select
                        className="table-select"
                        aria-label={`Role of ${memberName(member)}`}
                        value={member.role}
                        disabled={setRole.busy || lastOwner !== null}
                        title={lastOwner ?? undefined}
                        onChange={(e) => void setRole.run(member.userId, e.target.value as Role)}
                      >
                        {ROLES.map((r) => (
                          <option key={r} value={r}>
                            {roleLabel(r)}
                          </option>
                        ))}
                      </select>
                    ) : (
                      <Badge tone={member.role === "owner" ? "info" : "neutral"}>{roleLabel(member.role)}</Badge>
                    )}
                  </td>
                  <td data-label="Joined">{date(member.joinedAt)}</td>
                  {manage ? (
                    <td data-label="Actions" className="row-actions">
                      {you ? null : (
                        <button
                          type="button"
                          className="btn btn-ghost btn-small btn-danger-text"
                          aria-label={`Remove ${memberName(member)}`}
                          onClick={() => {
                            remove.clearError();
                            setRemoving(member);
                          }}
                        >
                          Remove
                        </button>
                      )}
                    </td>
                  ) : null}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {removing ? (
        <Dialog
          title={`Remove ${memberName(removing)}?`}
          size="small"
          role="alertdialog"
          onClose={() => setRemoving(null)}
          footer={
            <>
              <button type="button" className="btn btn-ghost" onClick={() => setRemoving(null)}>
                Keep them
              </button>
              <button type="button" className="btn btn-danger" onClick={() => void remove.run(removing)} disabled={remove.busy}>
                {remove.busy ? "Removing…" : "Remove member"}
              </button>
            </>
          }
        >
          <p>They lose access to this platform&apos;s projects at once. Invite them again to bring them back.</p>
          {remove.error ? <ErrorNotice error={remove.error} title="The member was not removed" compact /> : null}
        </Dialog>
      ) : null}
    </Card>
  );
}

const EMPTY_INVITE: InviteForm = { email: "", role: "viewer", days: "" };

function Invite({ onInvited }: { onInvited: () => void }) {
  const api = useApi();
  const [form, setForm] = useState<InviteForm>(EMPTY_INVITE);
  const [errors, setErrors] = useState<InviteErrors>({});
  const [sent, setSent] = useState<InvitationView | null>(null);
  const invite = useAction(api.invite);
  const set = (patch: Partial<InviteForm>) => {
    setForm({ ...form, ...patch });
    setErrors({});
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setSent(null);
    const checked = validateInvite(form);
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    const done = await invite.run(checked.value);
    if (done) {
      setSent(done.invitation);
      setForm({ ...EMPTY_INVITE, role: form.role });
      onInvited();
    }
  };
  return (
    <Card title="Invite someone" id="invite-title">
      <form className="stack" onSubmit={submit} noValidate data-testid="invite-form">
        <p className="muted">They get an email with a link; they join by signing in (or signing up) with that address.</p>
        <div className="grid-3 invite-fields">
          <TextField label="Email" type="email" autoComplete="off" spellCheck={false} value={form.email} error={errors.email} onChange={(e) => set({ email: e.target.value })} />
          <SelectField label="Role" value={form.role} onChange={(e) => set({ role: e.target.value as Role })} hint={ROLE_SUMMARY[form.role]}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {roleLabel(r)}
              </option>
            ))}
          </SelectField>
          <TextField
            label="Expires after (days)"
            inputMode="numeric"
            placeholder="7"
            value={form.days}
            error={errors.days}
            hint={`1 to ${MAX_INVITATION_DAYS}; 7 when empty.`}
            onChange={(e) => set({ days: e.target.value })}
          />
        </div>
        {sent ? (
          <Notice tone="success" title={`Invitation sent to ${sent.email}`} onDismiss={() => setSent(null)}>
            As {roleLabel(sent.role)}, until {dateTime(sent.expiresAt)}.
          </Notice>
        ) : null}
        {invite.error ? <ErrorNotice error={invite.error} title="The invitation was not sent" compact /> : null}
        <div className="actions">
          <button type="submit" className="btn btn-primary" disabled={invite.busy}>
            {invite.busy ? "Sending…" : "Send invitation"}
          </button>
        </div>
      </form>
    </Card>
  );
}

function Invitations({ invitations, manage, onChanged }: { invitations: InvitationView[]; manage: boolean; onChanged: () => void }) {
  const api = useApi();
  const revoke = useAction(async (id: string) => {
    await api.revokeInvitation(id);
    onChanged();
  });
  return (
    <Card title="Pending invitations" id="invitations-title">
      {revoke.error ? <ErrorNotice error={revoke.error} title="The invitation was not revoked" compact /> : null}
      {invitations.length === 0 ? (
        <EmptyState title="No pending invitations">{manage ? "Invite someone above; their invitation waits here until they accept it." : "Owners invite new members."}</EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table table-stack" data-testid="invitations">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Sent</th>
                <th scope="col">Expires</th>
                {manage ? (
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {invitations.map((invitation) => (
                <tr key={invitation.id} data-testid={`invitation-${invitation.email}`}>
                  <th scope="row">
                    <Wrappable className="cell-main" text={invitation.email} />
                  </th>
                  <td data-label="Role">{roleLabel(invitation.role)}</td>
                  <td data-label="Sent">{date(invitation.createdAt)}</td>
                  <td data-label="Expires">{dateTime(invitation.expiresAt)}</td>
                  {manage ? (
                    <td data-label="Actions" className="row-actions">
                      <button
                        type="button"
                        className="btn btn-ghost btn-small btn-danger-text"
                        aria-label={`Revoke the invitation of ${invitation.email}`}
                        disabled={revoke.busy}
                        onClick={() => void revoke.run(invitation.id)}
                      >
                        Revoke
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

/** Leaving: the member removes themselves; their access ends with that request, so they are signed out. */
function Leave({ team }: { team: TeamView }) {
  const api = useApi();
  const auth = useAuth();
  const [confirming, setConfirming] = useState(false);
  const blocked = lastOwnerReason(team.members, team.userId);
  const blockedId = useId();
  const leave = useAction(async () => {
    await api.removeMember(team.userId);
    await auth.signOut();
    navigate("/");
  });
  return (
    <Card title="Leave this organization" id="leave-title">
      <p className="muted">You lose access to its projects at once. An owner can invite you again.</p>
      {blocked ? (
        <p className="locked-hint" id={blockedId}>
          {blocked}
        </p>
      ) : null}
      <div className="actions">
        <button type="button" className="btn btn-secondary" disabled={blocked !== null} aria-describedby={blocked ? blockedId : undefined} onClick={() => setConfirming(true)}>
          Leave organization
        </button>
      </div>
      {confirming ? (
        <Dialog
          title="Leave this organization?"
          size="small"
          role="alertdialog"
          onClose={() => setConfirming(false)}
          footer={
            <>
              <button type="button" className="btn btn-ghost" onClick={() => setConfirming(false)}>
                Stay
              </button>
              <button type="button" className="btn btn-danger" onClick={() => void leave.run()} disabled={leave.busy}>
                {leave.busy ? "Leaving…" : "Leave"}
              </button>
            </>
          }
        >
          <p>You will be signed out; its projects are no longer yours to see.</p>
          {leave.error ? <ErrorNotice error={leave.error} title="You are still a member" compact /> : null}
        </Dialog>
      ) : null}
    </Card>
  );
}

function RolesCard() {
  return (
    <Card title="Roles" id="roles-title">
      <dl className="role-list">
        {ROLES.map((r) => (
          <div key={r}>
            <dt>{roleLabel(r)}</dt>
            <dd>{ROLE_SUMMARY[r]}</dd>
          </div>
        ))}
      </dl>
    </Card>
  );
}
