// Routes parley's tests add beside the seed's own `/` and `/errors` (which stay as written).
const reports = []

const card = (title) => ({
  title,
  subtitle: 'Rs.1599',
  imageUrl: `https://img.example.com/${title}.png`,
  buttons: [
    { title: 'Buy', type: 'postback', value: `buy ${title}` },
    { title: 'Site', type: 'web_url', value: 'https://shop.example.com' },
  ],
})

const EVERY_REPLY = [
  { type: 'text', content: 'Roger that' },
  { type: 'picture', content: 'https://img.example.com/speaker.png' },
  { type: 'video', content: 'https://video.example.com/speaker.mp4' },
  {
    type: 'quickReplies',
    content: { title: 'Which one?', buttons: [{ title: 'Speaker', value: 'speaker' }] },
  },
  {
    type: 'buttons',
    content: {
      title: 'What next?',
      buttons: [
        { title: 'Yes', type: 'postback', value: 'yes' },
        { title: 'Site', type: 'web_url', value: 'https://shop.example.com' },
        { title: 'Call us', type: 'phonenumber', value: '+33600000000' },
      ],
    },
  },
  { type: 'card', content: card('speaker') },
  { type: 'carousel', content: [card('speaker'), card('powerbank')] },
  {
    type: 'list',
    content: {
      elements: [card('speaker'), card('powerbank')],
      buttons: [{ title: 'More', type: 'postback', value: 'more' }],
    },
  },
  { type: 'location', content: { lat: 48.85, lng: 2.35 } },
]

module.exports = (app) => {
  // Record every report, then fall through to the seed's own POST /errors handler.
  app.use('/errors', (req, res, next) => {
    if (req.method === 'POST') reports.push({ body: req.body, headers: req.headers })
    next()
  })
  app.get('/errors', (req, res) => res.send({ reports }))

  // What arrived, returned as memory so it lands in the conversation data.
  app.all('/echo', (req, res) => {
    res.send({
      replies: [{ type: 'text', content: `${req.method} received` }],
      conversation: {
        memory: {
          method: req.method,
          headers: req.headers,
          body: req.body,
          has_body: Boolean(req.headers['content-length'] || req.headers['transfer-encoding']),
        },
      },
    })
  })

  app.post('/every-reply', (req, res) => res.send({ replies: EVERY_REPLY }))

  // Counts visits in memory and answers in the conversation's language, switching to French.
  app.post('/visit', (req, res) => {
    const memory = req.body.conversation.memory
    const visits = (memory.visits || 0) + 1
    res.send({
      replies: [{ type: 'text', content: `visit ${visits} in ${req.body.conversation.language}` }],
      conversation: { memory: { visits }, language: 'fr' },
    })
  })

  app.all('/empty', (req, res) => res.end())
  app.post('/500', (req, res) => res.status(500).send({ error: 'something broke' }))
  app.post('/html', (req, res) => res.type('html').send('<html><body>Oops</body></html>'))
}
