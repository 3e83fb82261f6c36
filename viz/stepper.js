// The controls every step-through page shares (the backprop page, the training page): first,
// previous, play/pause, next and last buttons, a slider, and keys: left/right arrows step, Home
// and End jump, space plays. The page draws: show(k) draws frame k (clamped to 0..last) and
// current() says which frame is drawn. extraKeys maps more keys to actions (zoom, say).
function stepThrough(last, show, current, pace, extraKeys = {}) {
  const $ = (id) => document.getElementById(id);
  const slider = $("slider");
  let timer = null;
  function pause() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    $("play").textContent = "▶ Play";
  }
  function play() {
    if (current() === last) show(0);
    $("play").textContent = "‖ Pause";
    timer = setInterval(() => { if (current() >= last) pause(); else show(current() + 1); }, pace);
  }
  const toggle = () => (timer === null ? play() : pause());
  $("play").addEventListener("click", toggle);
  $("prev").addEventListener("click", () => { pause(); show(current() - 1); });
  $("next").addEventListener("click", () => { pause(); show(current() + 1); });
  $("first").addEventListener("click", () => { pause(); show(0); });
  $("last").addEventListener("click", () => { pause(); show(last); });
  slider.addEventListener("input", () => { pause(); show(Number(slider.value)); });
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;  // the browser's own zoom and shortcuts
    if (e.target === slider && (e.key === "ArrowLeft" || e.key === "ArrowRight")) return;  // the slider moves itself
    const k = current();
    const go = { ArrowLeft: k - 1, ArrowRight: k + 1, Home: 0, End: last }[e.key];
    if (go !== undefined) { e.preventDefault(); pause(); show(go); }
    else if (e.key === " ") { e.preventDefault(); toggle(); }
    else if (extraKeys[e.key]) { e.preventDefault(); extraKeys[e.key](); }
  });
  return { pause };
}
