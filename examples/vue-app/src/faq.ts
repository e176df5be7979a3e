import { onMounted, onUnmounted, ref, shallowRef } from 'vue';
import type { CollectionRecord } from '@dramac/components';
import type { DramacClient } from '@dramac/sdk';

/**
 * The app's state and what the template binds to its elements' events. Kept in TypeScript (not in the
 * single-file component) so that `tsc` checks it: the `dm-` events are typed by `@dramac/components`.
 */
export function useFaq(client: DramacClient | undefined) {
  const siteName = ref<string>();
  const chosen = shallowRef<CollectionRecord>();
  const problem = ref<string>();

  // The client init() returned is typed from the OpenAPI documents: the same key, the same API.
  const controller = new AbortController();
  onMounted(() => {
    client
      ?.GET('/v1/public/site', { signal: controller.signal })
      .then(({ data }) => data && (siteName.value = data.name))
      .catch(() => undefined); // aborted when unmounted
  });
  onUnmounted(() => controller.abort());

  return {
    siteName,
    chosen,
    problem,
    onSelect(event: HTMLElementEventMap['dm-select']) {
      chosen.value = event.detail.record;
    },
    onLoad() {
      problem.value = undefined;
    },
    onError(event: HTMLElementEventMap['dm-error']) {
      problem.value = event.detail.message;
    },
  };
}
