// Site-wide constants, in one place.
/** The project's source repository: linked from every page footer, the Submit page and the Data page. */
export const REPO_URL = 'https://github.com/peft-bench/peft-bench';
/** A file in the repository's default branch. */
export const repoFile = (path: string) => `${REPO_URL}/blob/main/${path}`;
