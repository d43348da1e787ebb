/* The new recovery codes page: "Copy codes" and "Download as text".
 * The page hands over the text of the codes (#mfagate-recovery-text) and the wording
 * (#mfagate-recovery-messages, from enrollment/messages.py) through json_script.
 */
(function () {
  "use strict";
  const textElement = document.getElementById("mfagate-recovery-text");
  const wordingElement = document.getElementById("mfagate-recovery-messages");
  if (!textElement || !wordingElement) return;
  const text = JSON.parse(textElement.textContent);
  const wording = JSON.parse(wordingElement.textContent);
  const status = document.getElementById("recovery-status");
  const copy = document.getElementById("recovery-copy");
  const download = document.getElementById("recovery-download");

  function say(key) {
    status.textContent = wording[key];
    status.hidden = false;
  }

  copy.addEventListener("click", async function () {
    try {
      await navigator.clipboard.writeText(text);
      say("recovery_copied");
    } catch (error) {
      say("recovery_copy_failed");
    }
  });

  download.addEventListener("click", function () {
    const url = URL.createObjectURL(new Blob([text], {type: "text/plain;charset=utf-8"}));
    const link = document.createElement("a");
    link.href = url;
    link.download = "mfagate-recovery-codes.txt";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  });

  copy.disabled = false;
  download.disabled = false;
})();
