// The labels field of "Add host": `zone=a, disk=ssd` or one per line, checked
// with the same rules the server applies so a typo is caught before the token exists.
import { parseLabel, type TLabels } from "@fleet/shared/label-selector";

export function parseLabelsText(text: string): TLabels {
  const labels: TLabels = {};
  for (const part of text.split(/[\s,]+/)) {
    if (!part) continue;
    const [key, value] = parseLabel(part);
    labels[key] = value;
  }
  return labels;
}
