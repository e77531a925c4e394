// Point the official npm `clevertap` client at campaign-sandbox: one line, `api.apiEndpoint`.
//
//   npm install clevertap
//   SANDBOX_URL=http://127.0.0.1:8080 node campaign.js
//
// Environment: SANDBOX_URL (default http://127.0.0.1:8080), CLEVERTAP_ACCOUNT_ID, CLEVERTAP_PASSCODE.
// Prints one JSON line with what the client received for each call.
"use strict";

const CleverTap = require("clevertap");

const sandboxUrl = (process.env.SANDBOX_URL || "http://127.0.0.1:8080").replace(/\/$/, "");
const clevertap = CleverTap.init(
  process.env.CLEVERTAP_ACCOUNT_ID || "ACCOUNT_ID",
  process.env.CLEVERTAP_PASSCODE || "PASSCODE",
  CleverTap.REGIONS.US,
);
// The client builds every URL as `${apiEndpoint}/<endpoint>`; the sandbox serves CleverTap's real paths.
clevertap.api.apiEndpoint = `${sandboxUrl}/1`;

async function main() {
  const campaign = await clevertap.targets(clevertap.TARGET_CREATE, {
    name: "green freedom",
    target_mode: "push",
    when: "now",
    where: { event_name: "App Launched", from: 20250101, to: 20251231 },
    content: { title: "Hello!", body: "Strictly Green Lantern fans only!" },
    devices: ["ios"],
  });
  const upload = await clevertap.upload([
    { type: "event", identity: "JohnDoe", ts: 1700000000, evtName: "Charged", evtData: { Amount: 300 } },
  ]);
  console.log(JSON.stringify({ campaign, upload }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
