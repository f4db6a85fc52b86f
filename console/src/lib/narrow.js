// Whether the window is phone-sized (at most 600 px wide), following the window as it changes:
// the views drop columns and fold panels on a phone.
import { ref } from "vue";

const query = window.matchMedia("(max-width: 600px)");
export const narrow = ref(query.matches);
query.addEventListener("change", event => { narrow.value = event.matches; });
