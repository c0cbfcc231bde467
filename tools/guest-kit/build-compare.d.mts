// Types for build-compare.mjs, so @isola/compare can call it.
export declare function buildCompareGuests(): { guest: string; loop: string };
