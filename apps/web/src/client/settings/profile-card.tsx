"use client";
import type { TUserRole } from "@fleet/shared/domain/roles";
import { useSessionUser } from "../session";

const ROLE_MEANS: Record<TUserRole, string> = {
  viewer: "can see everything, change nothing",
  operator: "can run, stop and remove containers and manage images, volumes and networks",
  admin: "can also add hosts and manage users",
};

/** Who is signed in, at the top of Settings. */
export function ProfileCard() {
  const user = useSessionUser();
  return (
    <section className="card" aria-label="Your account">
      <dl className="facts">
        <dt>Name</dt>
        <dd>{user.name}</dd>
        <dt>Email</dt>
        <dd>{user.email}</dd>
        <dt>Role</dt>
        <dd>
          <span className="badge badge-idle">{user.role}</span>{" "}
          <span className="muted">{ROLE_MEANS[user.role]}</span>
        </dd>
      </dl>
    </section>
  );
}
