// The "Performance Plan" ribbon group (templates/manifest.xml): each button runs one command.
// The work is done by planvalidatorRun (js/main.js), which passes the sheets to send itself:
// xlwings ignores @script(include=...) for calls that don't come from a task pane button.

function planvalidatorRibbon(scriptName) {
  return async function (event) {
    try {
      await globalThis.planvalidatorRun(scriptName, "alert");
    } catch (error) {
      console.error(error);
    } finally {
      event.completed();
    }
  };
}

Office.actions.associate("pv-validate", planvalidatorRibbon("validate"));
Office.actions.associate("pv-submit", planvalidatorRibbon("submit"));
Office.actions.associate("pv-clear", planvalidatorRibbon("clear_highlights"));
Office.actions.associate("pv-get-plan", planvalidatorRibbon("get_my_plan"));
