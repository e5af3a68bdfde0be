/** v1 exit codes. */
export const EXIT_OK = 0;
/** Some jobs or streams failed, or records were dead-lettered. */
export const EXIT_PARTIAL = 1;
/** Configuration errors, missing files, start-up failures, or every job failed. */
export const EXIT_FAILURE = 2;
