// A VM's VNC console: noVNC's RFB client (served from its npm package under /novnc/)
// on the WebSocket one-web relays to the VM's VNC server; its state shows in #console-status.
import RFB from "/novnc/core/rfb.js";

const screen = document.getElementById("console-screen");
const status = document.getElementById("console-status");
function show(state, text) {
  status.dataset.state = state;
  status.textContent = text;
}
const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
const rfb = new RFB(screen, scheme + window.location.host + screen.dataset.socket,
                    {wsProtocols: ["binary"]});
rfb.scaleViewport = true;
rfb.addEventListener("connect", () => show("connected", "connected"));
rfb.addEventListener("disconnect", (event) => {
  show("disconnected", event.detail.clean ? "disconnected" : "connection failed or refused");
});
rfb.addEventListener("securityfailure", (event) => show("failed", "refused: " + event.detail.reason));
