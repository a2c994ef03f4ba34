"use client";
import { useCan } from "@/client/session";
import { ApiTokensSection } from "@/client/settings/api-tokens-section";
import { BindMountsSection } from "@/client/settings/bind-mounts-section";
import { HostsSection } from "@/client/settings/hosts-section";
import { ProfileCard } from "@/client/settings/profile-card";
import { UsersSection } from "@/client/settings/users-section";
import { PageHeader } from "@/client/ui/page-header";

export default function Page() {
  const isAdmin = useCan("admin");
  return (
    <>
      <PageHeader
        title="Settings"
        subtitle="Your account, adding hosts, API tokens, bind mounts and users."
      />
      <ProfileCard />
      <HostsSection />
      <ApiTokensSection />
      <BindMountsSection />
      {isAdmin ? <UsersSection /> : null}
    </>
  );
}
