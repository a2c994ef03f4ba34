// chart.js set up once, with the palette taken from the page's CSS variables
// so charts follow light and dark mode.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
);

export { Chart };

/** Series colours by role; the CSS defines them per colour scheme. */
export type TSeriesTone = "primary" | "secondary" | "allocated" | "used" | "limit" | "warn";

export function cssColor(name: string, fallback: string): string {
  if (typeof window === "undefined") return fallback;
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

export function toneColor(tone: TSeriesTone): string {
  const fallback: Record<TSeriesTone, string> = {
    primary: "#2563eb",
    secondary: "#0d9488",
    allocated: "#93c5fd",
    used: "#1d4ed8",
    limit: "#dc2626",
    warn: "#d97706",
  };
  return cssColor(`--chart-${tone}`, fallback[tone]);
}

export function applyChartDefaults() {
  Chart.defaults.color = cssColor("--muted", "#6b7280");
  Chart.defaults.borderColor = cssColor("--grid", "#e5e7eb");
  Chart.defaults.font.family = "inherit";
  Chart.defaults.font.size = 11;
  Chart.defaults.animation = false;
}

/** Re-reads the palette when the colour scheme flips, and tells the caller to redraw. */
export function onColorSchemeChange(redraw: () => void): () => void {
  if (typeof window === "undefined") return () => {};
  const query = window.matchMedia("(prefers-color-scheme: dark)");
  const listener = () => {
    applyChartDefaults();
    redraw();
  };
  query.addEventListener("change", listener);
  return () => query.removeEventListener("change", listener);
}
