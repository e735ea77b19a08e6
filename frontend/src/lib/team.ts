// Teams as the dashboard shows them: what each role may do (the API's rules, so the pages can
// leave out what would be refused), the words for roles, the invite form's checks, and when a
// member may leave. Pure: the API has the last word on every request (a refusal is a 403).
//
// The policy is shared/core/src/team.rs: roles are ordered owner > admin > developer > viewer
// and each action needs one of them.

import type { MemberView, Mode, Role } from "../api/types";

export const ROLES: Role[] = ["owner", "admin", "developer", "viewer"];

const RANK: Record<Role, number> = { owner: 3, admin: 2, developer: 1, viewer: 0 };

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as string[]).includes(value);
}

/** Whether `role` is `needed` or more trusted. */
export function atLeast(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

export interface Capabilities {
  role: Role;
  /** Projects in test mode: create them, their tiers, keys, codes, webhooks; upload images. */
  changeTest: boolean;
  /** The same on a live key set. */
  changeLive: boolean;
  goLive: boolean;
  connectStripe: boolean;
  /** The platform's own $15/month plan. */
  billing: boolean;
  /** Invite, remove and change the roles of members. */
  manageMembers: boolean;
}

export function capabilities(role: Role): Capabilities {
  return {
    role,
    changeTest: atLeast(role, "developer"),
    changeLive: atLeast(role, "admin"),
    goLive: atLeast(role, "admin"),
    connectStripe: atLeast(role, "admin"),
    billing: atLeast(role, "owner"),
    manageMembers: atLeast(role, "owner"),
  };
}

/** Whether the role may change a project's key set in `mode`. */
export function mayChange(caps: Capabilities, mode: Mode): boolean {
  return mode === "live" ? caps.changeLive : caps.changeTest;
}

export function roleLabel(role: Role): string {
  return role.charAt(0).toUpperCase() + role.slice(1);
}

/** One line per role, for the invite form and the Team page. */
export const ROLE_SUMMARY: Record<Role, string> = {
  owner: "Everything, including members and the $15/month plan",
  admin: "Projects, tiers, keys, Stripe, webhooks and going live, in both modes",
  developer: "Test mode only; live projects are read-only",
  viewer: "Reads everything, changes nothing",
};

/** What a project page says to someone whose role cannot change it, or null if it can. */
export function readOnlyReason(caps: Capabilities, mode: Mode): string | null {
  if (mayChange(caps, mode)) return null;
  if (caps.role === "viewer") return "You are a viewer in this organization: you can see everything, but not change it.";
  return "You are a developer in this organization: live projects are read-only for you. An admin or owner can change them.";
}

export interface InviteForm {
  email: string;
  role: Role;
  /** Empty: the API's default (7 days). */
  days: string;
}

export type InviteErrors = Partial<Record<"email" | "days", string>>;

export const MAX_INVITATION_DAYS = 30;

/** The API's checks on an invitation, before sending it (it normalizes the email itself). */
export function validateInvite(form: InviteForm): { ok: true; value: { email: string; role: Role; expiresInDays?: number } } | { ok: false; errors: InviteErrors } {
  const errors: InviteErrors = {};
  const email = form.email.trim();
  const [local, domain, ...rest] = email.split("@");
  if (!email) errors.email = "Enter the email address to invite";
  else if (!local || !domain || rest.length > 0 || !domain.includes(".") || domain.startsWith(".") || domain.endsWith(".") || /\s/.test(email)) {
    errors.email = "Enter an email address like ada@example.com";
  }
  const daysText = form.days.trim();
  const days = daysText === "" ? undefined : Number(daysText);
  if (days !== undefined && !(Number.isInteger(days) && days >= 1 && days <= MAX_INVITATION_DAYS)) {
    errors.days = `A whole number of days from 1 to ${MAX_INVITATION_DAYS}, or empty for 7`;
  }
  if (errors.email || errors.days) return { ok: false, errors };
  return { ok: true, value: days === undefined ? { email, role: form.role } : { email, role: form.role, expiresInDays: days } };
}

/**
 * Why `userId` cannot leave (or be removed from) the organization, or null if they can: an
 * organization keeps at least one owner.
 */
export function lastOwnerReason(members: Pick<MemberView, "userId" | "role">[], userId: string): string | null {
  const member = members.find((m) => m.userId === userId);
  if (!member || member.role !== "owner") return null;
  const owners = members.filter((m) => m.role === "owner").length;
  return owners <= 1 ? "An organization keeps at least one owner: make another member owner first." : null;
}
