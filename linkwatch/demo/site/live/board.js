// The live board builds its posts in the browser: a static crawl sees no links here.
fetch('/live/posts.json').then((r) => r.json()).then((data) => {
  const list = document.getElementById('posts');
  for (const post of data.posts) {
    const li = document.createElement('li');
    li.className = 'post';
    li.textContent = post.title + ': ' + post.parts.join('');
    list.appendChild(li);
  }
  document.getElementById('status').textContent = data.posts.length + ' posts';
  document.body.classList.add('loaded');
});
