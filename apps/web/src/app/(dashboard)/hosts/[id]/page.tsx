"use client";
import { useParams } from "next/navigation";
import { HostDetail } from "@/client/hosts/host-detail";

export default function Page() {
  const { id } = useParams<{ id: string }>();
  // A new host id is a new page: reset charts, pages and the event stream.
  return <HostDetail key={id} hostId={id} />;
}
