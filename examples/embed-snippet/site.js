// The host page's own script: the embed must never stop it.
document.getElementById('page-script').textContent = "The page's own script ran.";
