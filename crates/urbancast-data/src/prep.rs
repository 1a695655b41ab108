//! Scaling, masks, windows and splits (the CrossTReS / STBaT protocol).
